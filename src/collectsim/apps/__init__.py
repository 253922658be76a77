"""What people use: the command line, the dashboard and the training desk (the top layer)."""

"""Borrowed references for the compiled loop: arrays and a structref that numba does not reference-count.

numba counts the references to every array and structref it passes around, with atomic adds: a handler that
takes the run's world and reads three of its arrays adds and subtracts four counts. In the compiled loop those
counts took about 40% of the time, for nothing, since one call (``run_kernel``) owns everything for its whole
duration. So the loop's world holds :func:`borrowed` views of the arrays (no count: numba skips a null count), and
its handlers are passed :func:`unowned` references to the world (a plain pointer: nothing to count). The owner
keeps the arrays and the world alive until the views are no longer used (``run_kernel`` does, until it returns).
"""

from __future__ import annotations

from numba.core import cgutils, imputils, types
from numba.core.datamodel import models
from numba.core.extending import intrinsic, register_model
from numba.core.imputils import lower_getattr_generic
from numba.core.typing.templates import AttributeTemplate, infer_getattr

__jit__ = ()  # nothing to compile here: listed for the source digest of the compiled code (engines.jit)


@intrinsic
def borrowed(typingctx, array):
    """A view of ``array`` whose references are not counted (its count pointer is null)."""
    def codegen(context, builder, signature, args):
        view = context.make_array(signature.args[0])(context, builder, value=args[0])
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()

    return array(array), codegen


class Unowned(types.Type):
    """The numba type of an unowned reference to a structref of type ``owner``: its payload's address."""

    def __init__(self, owner: types.StructRef):
        self.owner = owner
        super().__init__(name=f"Unowned({owner})")


register_model(Unowned)(models.OpaqueModel)


@intrinsic
def unowned(typingctx, struct):
    """An unowned reference to the structref ``struct``: reads its fields as the structref does."""
    if not isinstance(struct, types.StructRef):
        return None

    def codegen(context, builder, signature, args):
        proxy = cgutils.create_struct_proxy(signature.args[0])(context, builder, value=args[0])
        return context.nrt.meminfo_data(builder, proxy.meminfo)

    return Unowned(struct)(struct), codegen


@infer_getattr
class _UnownedAttributes(AttributeTemplate):
    key = Unowned

    def generic_resolve(self, typ, attr):
        return typ.owner.field_dict.get(attr)


@lower_getattr_generic(Unowned)
def _unowned_getattr(context, builder, typ, value, attr):
    payload_type = typ.owner.get_data_type()
    pointer = builder.bitcast(value, context.data_model_manager[payload_type].get_value_type().as_pointer())
    field = getattr(cgutils.create_struct_proxy(payload_type)(context, builder, ref=pointer), attr)
    return imputils.impl_ret_borrowed(context, builder, typ.owner.field_dict[attr], field)

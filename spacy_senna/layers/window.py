"""The window of SENNA's window network: each token's vector joined with its neighbours'.

Followed by a dense layer this is a convolution over the sequence; positions past either end
of a sequence hold a learned PADDING vector.
"""
from typing import Callable, List, Optional, Tuple

from thinc.api import Model, uniform_init
from thinc.types import Floats2d, Ints2d

from .. import inference

InT = List[Floats2d]
OutT = List[Floats2d]


def SennaWindow(window_size: int = 5, nI: Optional[int] = None, *, dilation: int = 1) -> Model[InT, OutT]:
    """Map each (n, nI) sequence to (n, window_size * nI) windows, padded with a learned vector.

    With `dilation` d the window holds every d-th neighbour (tokens i - d, i, i + d for
    width 3): stacked dilated windows see a wide context at the cost of a narrow one."""
    if window_size < 1 or window_size % 2 == 0:
        raise ValueError(f"window_size must be odd and positive, got {window_size}")
    if dilation < 1:
        raise ValueError(f"dilation must be positive, got {dilation}")
    return Model(
        "senna_window",
        forward,
        init=init,
        dims={"nI": nI, "nO": nI * window_size if nI else None},
        params={"pad": None},
        attrs={"window_size": window_size, "dilation": dilation},
    )


def forward(model: Model[InT, OutT], Xs: InT, is_train: bool) -> Tuple[OutT, Callable]:
    ops = model.ops
    pad = model.get_param("pad")
    n_in = model.get_dim("nI")
    width = model.attrs["window_size"]
    lengths = ops.asarray1i([len(X) for X in Xs])
    # Row 0 of `table` is the padding vector, row i + 1 is token i of the batch.
    table = ops.xp.vstack([pad.reshape((1, n_in))] + list(Xs))
    rows = window_rows(ops, lengths, width, model.attrs.get("dilation", 1))
    windows = table[rows.ravel()].reshape((rows.shape[0], width * n_in))

    def backprop(d_windows: OutT) -> InT:
        d_flat = ops.flatten(d_windows) if len(d_windows) else windows[:0]
        d_table = ops.alloc2f(table.shape[0], n_in)
        ops.scatter_add(d_table, rows.ravel(), ops.xp.ascontiguousarray(d_flat.reshape((-1, n_in))))
        model.inc_grad("pad", d_table[0])
        return ops.unflatten(d_table[1:], lengths) if len(Xs) else []

    return (ops.unflatten(windows, lengths) if len(Xs) else []), backprop


def window_rows(ops, lengths, width: int, dilation: int = 1) -> Ints2d:
    """Rows of the padded table for each token's window: (n_tokens, width), 0 where padding."""
    return inference.window_rows(lengths, width, dilation, xp=ops.xp)


def init(model: Model[InT, OutT], X: Optional[InT] = None, Y=None) -> None:
    if X is not None and len(X) and not model.has_dim("nI"):
        model.set_dim("nI", X[0].shape[1])
    n_in = model.get_dim("nI")
    model.set_dim("nO", n_in * model.attrs["window_size"], force=True)
    model.set_param("pad", uniform_init(model.ops, (n_in,)))

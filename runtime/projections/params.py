"""Parameter classes for the merged projections, and how a loader is bound to them.

Plain (unquantized) parameters carry ``weight_loader`` as an ordinary attribute. Quantized ones model
SGLang's ``BasevLLMParameter`` family: ``weight_loader`` is a *read-only property* over
``_weight_loader`` (``sglang/srt/layers/parameter.py: BasevLLMParameter.weight_loader``). Assigning to it raises ``AttributeError`` (the Qwen3-Next FP8 load failure that
#21313 fixed, #21496 reverted, and #21662 fixed again). :func:`bind_weight_loader` is the #21662
shape of the fix: it writes the backing field of property-backed parameters and never assigns the
property itself.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Loader = Callable[..., None]


def plain_parameter(data: torch.Tensor, weight_loader: Loader) -> torch.nn.Parameter:
    """An unquantized weight: ``weight_loader`` is a mutable attribute, rows are the output dim."""
    param = torch.nn.Parameter(data, requires_grad=False)
    param.weight_loader = weight_loader
    param.output_dim = 0
    return param


class QuantParameter(torch.nn.Parameter):
    """A quantized-layer parameter whose ``weight_loader`` is a read-only property."""

    output_dim = 0

    def __new__(cls, data: torch.Tensor, weight_loader: Loader, **_: object):
        return super().__new__(cls, data, requires_grad=False)

    def __init__(self, data: torch.Tensor, weight_loader: Loader, **_: object) -> None:
        self._weight_loader = weight_loader

    @property
    def weight_loader(self) -> Loader:
        return self._weight_loader


class Fp8WeightParameter(QuantParameter):
    """FP8 (e4m3) weight, ``[rows, in]``."""


class BlockScaleParameter(QuantParameter):
    """Block-wise inverse scales ``[rows / block_n, in / block_k]`` (``weight_scale_inv``)."""

    def __init__(self, data: torch.Tensor, weight_loader: Loader, *, block: tuple[int, int]) -> None:
        super().__init__(data, weight_loader)
        self.block = block


class PerTensorScaleParameter(QuantParameter):
    """One scale per logical shard of the merged layer (``weight_scale``, shape ``[num_shards]``); it has no
    output dim (as in SGLang, where this class is not a column parameter)."""

    output_dim = None


def has_property_loader(param: torch.nn.Parameter) -> bool:
    """True when ``weight_loader`` is a class property (assigning it would raise)."""
    return isinstance(getattr(type(param), "weight_loader", None), property)


def bind_weight_loader(param: torch.nn.Parameter, loader: Loader) -> None:
    """Make ``loader`` what ``param.weight_loader`` returns, for plain and quantized parameters (#21662)."""
    if has_property_loader(param):
        param._weight_loader = loader
    else:
        param.weight_loader = loader

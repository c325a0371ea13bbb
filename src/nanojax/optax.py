"""``nanojax.optim`` under optax's name, for programs that ``import optax``.

``import nanojax.optax as optax`` gives the same objects as ``nanojax.optim``.
optax's submodules ``losses``, ``schedules`` and ``transforms`` are here too,
holding the names optax puts in them (``optax.losses.l2_loss``,
``from nanojax.optax.schedules import linear_schedule``).

Examples:
    >>> import nanojax.optax as optax
    >>> from nanojax import optim
    >>> optax.adamw is optim.adamw
    True
    >>> optax.losses.softmax_cross_entropy is optim.softmax_cross_entropy
    True
"""

import sys
import types

from nanojax import optim as _optim

__all__ = list(_optim.__all__)
globals().update({name: getattr(_optim, name) for name in __all__})

_SUBMODULES = {
    "losses": """convex_kl_divergence ctc_loss ctc_loss_with_forward_probs
        generalized_kl_divergence hinge_loss kl_divergence kl_divergence_with_log_targets
        multiclass_hinge_loss multiclass_perceptron_loss perceptron_loss
        poly_loss_cross_entropy safe_softmax_cross_entropy sigmoid_binary_cross_entropy
        sigmoid_focal_loss softmax_cross_entropy softmax_cross_entropy_with_integer_labels
        cosine_distance cosine_similarity huber_loss l2_loss log_cosh squared_error
        smooth_labels""",
    "schedules": """inject_hyperparams InjectHyperparamsState join_schedules
        constant_schedule cosine_decay_schedule cosine_onecycle_schedule exponential_decay
        linear_onecycle_schedule linear_schedule piecewise_constant_schedule
        piecewise_interpolate_schedule polynomial_schedule sgdr_schedule
        warmup_constant_schedule warmup_cosine_decay_schedule
        warmup_exponential_decay_schedule""",
    "transforms": """ema EmaState MultiSteps MultiStepsState skip_large_updates
        skip_not_finite trace TraceState add_decayed_weights add_noise AddNoiseState clip
        clip_by_block_rms clip_by_global_norm chain named_chain partition PartitionState
        apply_if_finite ApplyIfFiniteState conditionally_mask conditionally_transform
        ConditionallyMaskState ConditionallyTransformState keep_params_nonnegative
        zero_nans ZeroNansState masked MaskedNode MaskedState freeze selective_transform
        flatten""",
}


def _submodule(name: str, names: str) -> types.ModuleType:
    module = types.ModuleType(f"{__name__}.{name}", f"optax.{name}'s names in nanojax.optim.")
    module.__all__ = names.split()     # type: ignore[attr-defined]
    for attr in module.__all__:
        setattr(module, attr, getattr(_optim, attr))
    # In sys.modules, so ``import nanojax.optax.losses`` and ``from ... import`` work too.
    sys.modules[module.__name__] = module
    return module


losses = _submodule("losses", _SUBMODULES["losses"])
schedules = _submodule("schedules", _SUBMODULES["schedules"])
transforms = _submodule("transforms", _SUBMODULES["transforms"])
# optax.tree and optax.tree_utils are nanojax.optim's modules of the same names.
sys.modules.update({f"{__name__}.tree": _optim.tree,
                    f"{__name__}.tree_utils": _optim.tree_utils})

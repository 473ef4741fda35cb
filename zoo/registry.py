"""Registry of model architectures: `list_models()` and `create_model(name, **config)`."""

import dataclasses
import inspect


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One registered architecture: its name, family, task(s), builder (class or
    function) and three sets of constructor arguments, so code that runs over every
    registered model reads them here instead of keeping its own per-family table:

    tiny_config   a model small enough for tests (16 x 16 images, a few channels).
    variants      option sets, each layered over `tiny_config`, that switch on the
                  family's less common code paths (another head, a free image size, an
                  optional layer): those most likely to behave differently on another
                  backend. `tests/test_backends.py` fits each one under JAX; no variants
                  (the default) means `tiny_config` alone.
    demo_config   a model for the quick-start demo (`zoo quickstart`): larger than
                  `tiny_config` (32 x 32 images) yet fit in seconds on a CPU; None (the
                  default) means `tiny_config`.
    """

    name: str
    family: str
    task: str
    builder: type
    tiny_config: dict = dataclasses.field(default_factory=dict)
    variants: tuple = ()
    demo_config: dict | None = None

    def variant_configs(self):
        """`tiny_config` with each of the `variants` layered over it (`tiny_config`
        itself when the family declares none)."""
        return [{**self.tiny_config, **variant} for variant in self.variants or ({},)]

    @property
    def summary(self):
        """First line of the builder's docstring."""
        return (inspect.getdoc(self.builder) or "").splitlines()[0]

    def config_keys(self):
        """The constructor arguments `create_model` accepts, with their defaults."""
        params = inspect.signature(self.builder).parameters.values()
        return {p.name: p.default for p in params
                if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


_REGISTRY = {}


def register_model(name, *, family, task, tiny_config=None, variants=(), demo_config=None):
    """Class or function decorator that registers an architecture under `name`; the
    arguments are the `ModelEntry` fields."""

    def decorate(builder):
        if name in _REGISTRY:
            raise ValueError(f"A model named {name!r} is already registered.")
        _REGISTRY[name] = ModelEntry(
            name, family, task, builder, dict(tiny_config or {}),
            variants=tuple(dict(variant) for variant in variants),
            demo_config=None if demo_config is None else dict(demo_config))
        return builder

    return decorate


def list_models():
    """Names of the registered architectures, sorted."""
    return sorted(_REGISTRY)


def get_entry(name):
    """The ModelEntry for `name`; an unknown name raises a ValueError listing the valid ones."""
    if name not in _REGISTRY:
        raise ValueError(f"Unknown model {name!r}. Registered models: {', '.join(list_models())}.")
    return _REGISTRY[name]


def create_model(name, **config):
    """Build the architecture `name` with `config` overriding its defaults.

    Unknown config keys raise a ValueError that lists the valid ones.
    """
    entry = get_entry(name)
    valid = entry.config_keys()
    unknown = sorted(set(config) - set(valid) - {"name"})
    if unknown:
        raise ValueError(f"Unknown config key(s) {unknown} for model {name!r}. "
                         f"Valid keys: {', '.join(valid)}.")
    return entry.builder(**config)

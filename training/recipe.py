"""Recipes: small TOML files that say how a model is trained.

    name = "unet_denoise_natural"
    seed = 0
    [model]
    architecture = "unet"
    config = { filters = [32, 64, 128] }
    [data]
    dataset = "natural"          # see training.sources
    crop_size = [64, 64]
    batch_size = 16
    [degradation]
    noise_sigma = [0, 50]
    [training]
    epochs = 20
    steps_per_epoch = 200
    learning_rate = 1e-3
    schedule = "cosine"
    [callbacks]
    samples_every = 1

Every key is checked before anything is built: an unknown key, a value of the
wrong type, an unknown dataset, architecture or model config key fails with a
message naming it. `load_recipe(path_or_name)` also accepts the name of a
recipe shipped in `training/recipes/`.
"""

import dataclasses
import math
import types
import typing
from pathlib import Path

import tomllib

RECIPES_DIR = Path(__file__).parent / "recipes"
SCHEDULES = ("constant", "cosine", "exponential")
OPTIMIZERS = ("adam", "adamw", "sgd")
PRECISIONS = ("none", "mixed_float16", "mixed_bfloat16")


@dataclasses.dataclass(frozen=True)
class ModelSection:
    architecture: str
    config: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class DataSection:
    dataset: str
    crop_size: tuple[int, int]
    batch_size: int = 16
    path: str | None = None
    augment: bool = True
    validation_fraction: float = 0.1
    validation_batches: int = 4
    workers: int = 1
    min_side: int = 0


@dataclasses.dataclass(frozen=True)
class DegradationSection:
    masks: str = "mixed"
    hole_area: tuple[float, float] = (0.02, 0.25)
    noise_sigma: tuple[float, float] = (0.0, 50.0)


@dataclasses.dataclass(frozen=True)
class TrainingSection:
    epochs: int = 10
    steps_per_epoch: int = 100
    optimizer: str = "adam"
    learning_rate: float | None = None
    schedule: str = "constant"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    beta_1: float | None = None
    clipnorm: float | None = None
    ssim_weight: float | None = None
    pixel_loss: str = "l1"
    adversarial_loss: str = "bce"
    r1_gamma: float = 0.0
    generator_ema: float = 0.0
    mixed_precision: str = "none"
    jit_compile: bool = False


@dataclasses.dataclass(frozen=True)
class CallbacksSection:
    samples_every: int = 1
    sample_count: int = 8
    tensorboard: bool = True
    checkpoint_best: bool = True
    monitor: str = "val_loss"


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    model: ModelSection
    data: DataSection
    seed: int = 0
    description: str = ""
    degradation: DegradationSection = DegradationSection()
    training: TrainingSection = TrainingSection()
    callbacks: CallbacksSection = CallbacksSection()

    def to_dict(self):
        """Plain dict (JSON-ready) of every value, defaults included."""
        return dataclasses.asdict(self)

    def replace(self, section, **changes):
        """A copy with `changes` applied to `section` (e.g. "training")."""
        updated = dataclasses.replace(getattr(self, section), **changes)
        return dataclasses.replace(self, **{section: updated})


class RecipeError(ValueError):
    """A recipe that cannot run; the message names the key."""


def _type_name(kind):
    return getattr(kind, "__name__", str(kind))


def _coerce(key, value, kind):
    """`value` checked against the annotation `kind`; ints are accepted for floats and
    lists of the right length for tuples."""
    if isinstance(kind, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        kind = next(k for k in options if k is not type(None))
    origin = typing.get_origin(kind)
    if origin is tuple:
        items = typing.get_args(kind)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = [value] * len(items)  # a single number means a fixed value
        if not isinstance(value, list | tuple) or len(value) != len(items):
            raise RecipeError(f"{key} must be a list of {len(items)} numbers, got {value!r}.")
        pairs = enumerate(zip(value, items, strict=True))
        return tuple(_coerce(f"{key}[{i}]", v, k) for i, (v, k) in pairs)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise RecipeError(f"{key} must be of type {_type_name(kind)}, got {value!r} "
                          f"({type(value).__name__}).")
    return value


def _build(cls, table, prefix):
    if not isinstance(table, dict):
        raise RecipeError(f"{prefix or 'recipe'} must be a table, got {table!r}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(table) - set(fields))
    if unknown:
        where = f"[{prefix}]" if prefix else "the top level"
        raise RecipeError(f"unknown key {prefix + '.' if prefix else ''}{unknown[0]} in "
                          f"{where}; valid keys: {', '.join(fields)}.")
    values = {}
    for name, field in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        if name not in table:
            required = (field.default is dataclasses.MISSING
                        and field.default_factory is dataclasses.MISSING)
            if required:
                raise RecipeError(f"missing required key {key}.")
            continue
        kind = hints[name]
        if dataclasses.is_dataclass(kind):
            values[name] = _build(kind, table[name], key)
        else:
            values[name] = _coerce(key, table[name], kind)
    return cls(**values)


def _check_choice(key, value, choices):
    if value not in choices:
        raise RecipeError(f"{key} = {value!r} is not one of {', '.join(choices)}.")


def _check_finite(value, key):
    """Every float in the recipe (model.config included) is a number: TOML allows
    `nan` and `inf`, which no setting means."""
    if isinstance(value, dict):
        for name, item in value.items():
            _check_finite(item, f"{key}.{name}" if key else name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(item, f"{key}[{index}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise RecipeError(f"{key} must be a finite number, got {value}.")


def _check_interval(key, value, low, high, open_low=False, open_high=False):
    below = value <= low if open_low else value < low
    above = value >= high if open_high else value > high
    if below or above:
        interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
        raise RecipeError(f"{key} must be in {interval}, got {value:g}.")


def _check_pair(key, pair, low, high, open_low=False):
    """A [low, high] setting with both ends inside the interval from `low` to `high`."""
    for index, value in enumerate(pair):
        _check_interval(f"{key}[{index}]", value, low, high, open_low=open_low)
    if pair[0] > pair[1]:
        raise RecipeError(f"{key} is [low, high]; got low {pair[0]:g} above high {pair[1]:g}.")


def _check_ranges(recipe):
    """Numbers that have a valid range beyond their type."""
    training, degradation = recipe.training, recipe.degradation
    if training.learning_rate is not None and not training.learning_rate > 0:
        raise RecipeError(f"training.learning_rate must be > 0, got {training.learning_rate}.")
    if training.clipnorm is not None and not training.clipnorm > 0:
        raise RecipeError(f"training.clipnorm must be > 0 (leave it out for no clipping), "
                          f"got {training.clipnorm}.")
    if training.ssim_weight is not None and not 0 <= training.ssim_weight < math.inf:
        raise RecipeError(f"training.ssim_weight must be >= 0 (0 = plain L1; leave it out "
                          f"for the model's standard loss), got {training.ssim_weight}.")
    if training.beta_1 is not None:
        _check_interval("training.beta_1", training.beta_1, 0, 1, open_high=True)
    _check_interval("training.generator_ema", training.generator_ema, 0, 1, open_high=True)
    for key in ("weight_decay", "r1_gamma", "warmup_steps"):
        if getattr(training, key) < 0:
            raise RecipeError(f"training.{key} must be >= 0, got {getattr(training, key)}.")
    if training.warmup_steps and training.schedule == "exponential":
        raise RecipeError("training.warmup_steps is not supported with the exponential "
                          "schedule; use cosine or constant.")
    if recipe.callbacks.samples_every < 0:
        raise RecipeError("callbacks.samples_every must be >= 0 (0 = no sample grids), got "
                          f"{recipe.callbacks.samples_every}.")
    if not 0 <= recipe.seed < 2**32:
        raise RecipeError(f"seed must be in [0, 2**32), got {recipe.seed}.")
    _check_pair("degradation.noise_sigma", degradation.noise_sigma, 0, 255)
    _check_pair("degradation.hole_area", degradation.hole_area, 0, 0.5, open_low=True)


def _check_semantics(recipe):
    """What types alone do not catch: names, ranges, model config keys."""
    from training.masks import MASK_PRESETS
    from training.sources import check_dataset_name
    from zoo.registry import get_entry

    try:
        entry = get_entry(recipe.model.architecture)
        check_dataset_name(recipe.data.dataset)
    except ValueError as error:
        raise RecipeError(str(error)) from None
    unknown = sorted(set(recipe.model.config) - set(entry.config_keys()))
    if unknown:
        raise RecipeError(f"unknown key model.config.{unknown[0]} for {entry.name}; valid "
                          f"keys: {', '.join(entry.config_keys())}.")
    if recipe.data.dataset == "folder" and not recipe.data.path:
        raise RecipeError("data.path is required when data.dataset = 'folder'.")
    positive = {"data.batch_size": recipe.data.batch_size,
                "data.validation_batches": recipe.data.validation_batches,
                "data.workers": recipe.data.workers,
                "training.epochs": recipe.training.epochs,
                "training.steps_per_epoch": recipe.training.steps_per_epoch,
                "callbacks.sample_count": recipe.callbacks.sample_count,
                **{f"data.crop_size[{i}]": s for i, s in enumerate(recipe.data.crop_size)}}
    for key, value in positive.items():
        if value < 1:
            raise RecipeError(f"{key} must be >= 1, got {value}.")
    _check_finite(recipe.to_dict(), "")
    if recipe.data.min_side < 0:
        raise RecipeError(f"data.min_side must be >= 0, got {recipe.data.min_side}.")
    if not 0 < recipe.data.validation_fraction < 1:
        raise RecipeError("data.validation_fraction must be between 0 and 1, got "
                          f"{recipe.data.validation_fraction}.")
    _check_ranges(recipe)
    _check_choice("degradation.masks", recipe.degradation.masks, tuple(MASK_PRESETS))
    _check_choice("training.optimizer", recipe.training.optimizer, OPTIMIZERS)
    _check_choice("training.pixel_loss", recipe.training.pixel_loss, ("l1", "psnr"))
    _check_choice("training.schedule", recipe.training.schedule, SCHEDULES)
    _check_choice("training.mixed_precision", recipe.training.mixed_precision, PRECISIONS)
    _check_choice("training.adversarial_loss", recipe.training.adversarial_loss,
                  ("bce", "hinge", "lsgan"))


def parse_recipe(table, name="recipe"):
    """A checked `Recipe` from a parsed TOML table (`name` is used when it has none)."""
    table = dict(table)
    table.setdefault("name", name)
    recipe = _build(Recipe, table, "")
    _check_semantics(recipe)
    return recipe


def shipped_recipes():
    """Names of the recipes that ship with the package, sorted."""
    return sorted(p.stem for p in RECIPES_DIR.glob("*.toml"))


def resolve_recipe_path(path_or_name):
    """The file of a recipe given as a path or as the name of a shipped recipe."""
    path = Path(path_or_name)
    if path.is_file():
        return path
    shipped = RECIPES_DIR / f"{path_or_name}.toml"
    if shipped.is_file():
        return shipped
    raise FileNotFoundError(f"No recipe file {str(path_or_name)!r} and no shipped recipe of "
                            f"that name; shipped: {', '.join(shipped_recipes())}.")


def load_recipe(path_or_name):
    """Read and check a recipe from a TOML file or a shipped recipe's name."""
    path = resolve_recipe_path(path_or_name)
    try:
        table = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise RecipeError(f"{path} is not valid TOML: {error}") from None
    return parse_recipe(table, name=path.stem)

"""`train(recipe, out_dir)`: one training run, resumable, in its own folder.

    OUT/config.json             the recipe as it ran (overrides applied), backend, versions
    OUT/backup/                 the last finished epoch (what --resume continues from),
                                removed once model.keras and metrics.json are written
    OUT/checkpoints/best.keras  the model with the best validation loss so far
    OUT/logs/history.csv        one row per epoch; logs/tensorboard/ scalars and images
    OUT/samples/epoch_NNN.png   sample grids
    OUT/model.keras             the final model
    OUT/metrics.json            validation metrics of the final model, throughput

Every file is written through a temporary name and a rename. Everything the recipe
names (model, crop, data) is checked before the folder is written; a run that fails
before its first epoch is backed up leaves no folder behind.
"""

import csv
import dataclasses
import json
import math
import platform
import shutil
import time
import warnings
from pathlib import Path

import h5py
import keras
import numpy as np

from training import distribute
from training.callbacks import (
    BestModel,
    EpochClock,
    NaNGuard,
    RunBackup,
    SampleGrid,
    save_model_atomically,
    tensorboard_available,
)
from training.optimizers import build_optimizer
from training.pipeline import BatchMaker, EpochBatches, FollowEpoch, to_tf_dataset
from training.recipe import RecipeError, parse_recipe
from training.snapshot import WARM_START_CURVE, source_curve
from training.sources import open_source
from training.tasks import Degradation, model_image_shape, task_of
from zoo.inference import takes_noise_level
from zoo_lite.image_io import replaced_on_success, write_json


@dataclasses.dataclass
class RunResult:
    run_dir: Path
    model: keras.Model
    history: dict
    metrics: dict


def apply_overrides(recipe, steps=None, epochs=None, mixed_precision=None, jit_compile=None):
    """The recipe with command-line overrides. `steps` is the total number of training
    steps: split into ceil(steps / steps_per_epoch) epochs of equal length."""
    if steps is not None and epochs is not None:
        raise ValueError("Give --steps or --epochs, not both.")
    training = recipe.training
    changes = {}
    if steps is not None:
        if steps < 1:
            raise ValueError(f"--steps must be >= 1, got {steps}.")
        count = math.ceil(steps / training.steps_per_epoch)
        changes.update(epochs=count, steps_per_epoch=math.ceil(steps / count))
    if epochs is not None:
        if epochs < 1:
            raise ValueError(f"--epochs must be >= 1, got {epochs}.")
        changes["epochs"] = epochs
    if mixed_precision is not None:
        changes["mixed_precision"] = mixed_precision
    if jit_compile is not None:
        changes["jit_compile"] = jit_compile
    return recipe.replace("training", **changes) if changes else recipe


def _value(recipe_dict, section, key):
    value = recipe_dict.get(section)
    return value.get(key) if key is not None and isinstance(value, dict) else value


def _with_defaults(stored_recipe):
    """A stored recipe with the keys added to recipes since it was written set to their
    defaults, so that a new option left at its default does not count as a change; the
    stored dict itself if it no longer parses."""
    try:
        return json.loads(json.dumps(parse_recipe(stored_recipe).to_dict()))
    except (RecipeError, TypeError, ValueError):
        return stored_recipe


def _check_run_dir(run_dir, config, resume):
    """Refuse a folder that holds another run, a different recipe or a finished run;
    writes nothing."""
    config_path = run_dir / "config.json"
    if run_dir.exists() and not run_dir.is_dir():
        raise FileExistsError(f"{run_dir} is a file; --out must name a folder.")
    if config_path.exists():
        if not resume:
            raise FileExistsError(f"{run_dir} already holds a run; pass --resume to continue "
                                  "it or --out to choose another folder.")
        previous = _with_defaults(json.loads(config_path.read_text())["recipe"])
        current = json.loads(json.dumps(config["recipe"]))  # tuples -> lists, as stored
        changed = [f"{section}.{key}" for section, values in current.items()
                   for key in (values if isinstance(values, dict) else [None])
                   if _value(previous, section, key) != _value(current, section, key)]
        if changed:
            raise RecipeError(f"cannot resume: {run_dir} was started with a different recipe "
                              f"({', '.join(k.removesuffix('.None') for k in changed)} "
                              "changed).")
        if (run_dir / "metrics.json").exists() and not (run_dir / "backup").exists():
            raise FileExistsError(f"{run_dir} holds a finished run (metrics.json): there is "
                                  "nothing to resume. Choose another --out to train again.")
    elif run_dir.exists() and any(run_dir.iterdir()):
        raise FileExistsError(f"{run_dir} exists, is not empty and holds no run (no "
                              "config.json); choose another --out.")


def _backed_up_epochs(run_dir):
    metadata = run_dir / "backup" / "training_metadata.json"
    return int(json.loads(metadata.read_text())["epoch"]) if metadata.is_file() else 0


def _trim_logs(run_dir):
    """Drop log rows of epochs the backup does not hold (a kill after an epoch's row
    but before its backup): those epochs run again, and a log never repeats an epoch."""
    finished = _backed_up_epochs(run_dir)
    for path in (run_dir / "logs" / "history.csv", run_dir / "logs" / "clock.csv"):
        if not path.is_file():
            continue
        header, *rows = path.read_text().splitlines(keepends=True) or [""]
        if not header.startswith("epoch,"):
            continue
        kept = [row for row in rows if row.endswith("\n")
                and row.split(",", 1)[0].isdigit() and int(row.split(",", 1)[0]) < finished]
        if kept != rows:
            with replaced_on_success(path, ".csv.partial") as temporary:
                temporary.write_text(header + "".join(kept))


def initial_weights(path):
    """The weights file or .keras file that `path` (a run folder or a file) stands for."""
    path = Path(path)
    if path.is_dir():
        for candidate in (path / "backup" / "latest.weights.h5", path / "model.keras"):
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"--init-from {path}: the folder holds no run weights "
                                "(backup/latest.weights.h5 or model.keras)")
    if not path.is_file():
        raise FileNotFoundError(f"--init-from {path}: no such file or folder")
    if not path.name.endswith((".keras", ".weights.h5")):
        raise ValueError(f"--init-from {path}: expected a run folder, a .keras file or a "
                         ".weights.h5 file")
    return path


def _weight_shapes(weights_file):
    """{path inside the file: shape} of a .weights.h5 file's model weights (its
    optimizer state left out)."""
    shapes = {}
    with h5py.File(weights_file, "r") as weights:
        weights.visititems(lambda name, item: shapes.__setitem__(name, item.shape)
                           if isinstance(item, h5py.Dataset)
                           and not name.startswith("optimizer") else None)
    return shapes


def load_initial_weights(model, path):
    """Load `initial_weights(path)` into `model`.

    The same architecture loads whole. A model that adds layers to the source's
    (`UNet(smooth_blend=...)` on a trained denoiser) takes every source weight at its
    place and keeps its own initializers for the added layers: a warm start of a grown
    design. Anything else, a weight missing or of another shape, is a ValueError naming
    the file."""
    import tempfile
    import zipfile

    source = initial_weights(path)
    with tempfile.TemporaryDirectory() as scratch:
        weights_file = source
        if source.name.endswith(".keras"):
            try:
                with zipfile.ZipFile(source) as archive:
                    weights_file = Path(archive.extract("model.weights.h5", scratch))
            except (zipfile.BadZipFile, KeyError, OSError) as error:
                raise ValueError(f"--init-from {source}: not a readable .keras file "
                                 f"({error})") from None
        own_file = Path(scratch) / "own.weights.h5"
        model.save_weights(own_file)
        try:
            theirs, ours = _weight_shapes(weights_file), _weight_shapes(own_file)
        except OSError as error:
            raise ValueError(f"--init-from {source}: not a readable weights file "
                             f"({error})") from None
        misfits = [name for name, shape in theirs.items() if ours.get(name) != shape]
        if misfits or not theirs:
            reason = (f"{misfits[0]}: {theirs[misfits[0]]} against "
                      f"{ours.get(misfits[0], 'no such weight')}" if misfits else "no weights")
            raise ValueError(f"--init-from {source}: does not fit this recipe's model "
                             f"({reason})")
        with warnings.catch_warnings():  # optimizer state and the added layers' absence
            warnings.simplefilter("ignore")
            model.load_weights(weights_file, skip_mismatch=len(theirs) < len(ours))


def _remove_unstarted_run(run_dir, existed):
    """After a failure before any epoch of a new run was backed up: nothing to resume,
    so remove what this call wrote, leaving the folder as it was (absent or empty)."""
    if (run_dir / "backup").exists() or not run_dir.is_dir():
        return
    for child in run_dir.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    if not existed:
        run_dir.rmdir()


def run_recipe(run_dir):
    """The recipe a run folder (or its snapshot) ran, from its config.json."""
    config = Path(run_dir) / "config.json"
    if not config.is_file():
        raise ValueError(f"{run_dir} is not a run folder: config.json is missing.")
    return parse_recipe(json.loads(config.read_text())["recipe"])


def build_model(recipe, channels_hint=3):
    """The recipe's model, checked against its crop size."""
    import zoo

    try:
        model = zoo.create_model(recipe.model.architecture, **recipe.model.config)
    except (TypeError, ValueError) as error:
        raise RecipeError(f"model.config for {recipe.model.architecture}: {error}") from None
    _check_crop(model, tuple(recipe.data.crop_size))
    return model


def _check_crop(model, crop):
    from zoo.image_layers import SpatialSizeCheck
    from zoo.inference import size_factor

    height, width, _ = model_image_shape(model)
    if height is not None and (height, width) != crop:
        raise RecipeError(f"data.crop_size {list(crop)} does not match the model's fixed "
                          f"input size {[height, width]} (model.config.image_shape).")
    factor = size_factor(model)
    strict = any(isinstance(layer, SpatialSizeCheck) for layer in model.layers)
    if strict and any(size % factor for size in crop):
        raise RecipeError(f"data.crop_size {list(crop)}: this model needs sizes divisible "
                          f"by {factor}.")
    # Padding by reflection to the next multiple of `factor` needs more pixels than it adds.
    if any((-size) % factor >= size for size in crop):
        raise RecipeError(f"data.crop_size {list(crop)} is too small for this model: it pads "
                          f"to multiples of {factor} by reflection, which needs at least "
                          f"{factor // 2 + 1} pixels a side (best: a multiple of {factor}).")


def compile_model(model, recipe, total_steps, schedule_offset=0):
    """Compile with the recipe's optimizer and schedule (the model's standard loss);
    schedule_offset: see `schedule_offset`."""
    training = recipe.training
    jit = True if keras.backend.backend() == "jax" else training.jit_compile
    offset = dict(schedule_offset=schedule_offset)
    if model.own_train_step:  # a GAN's compile takes its two optimizers and its loss
        model.compile(d_optimizer=build_optimizer(training, total_steps, gan=True, **offset),
                      g_optimizer=build_optimizer(training, total_steps, gan=True,
                                                  ema=training.generator_ema, **offset),
                      loss=training.adversarial_loss, r1_gamma=training.r1_gamma,
                      jit_compile=jit)
    else:
        model.compile(optimizer=build_optimizer(training, total_steps, **offset),
                      loss=_reconstruction_loss(model, training), jit_compile=jit)


def _reconstruction_loss(model, training):
    """None (the model's standard loss) unless the recipe sets training.ssim_weight or a
    pixel_loss other than L1 (which then has no SSIM term unless ssim_weight says so)."""
    from zoo.losses import ReconstructionLoss
    from zoo.models.restoration import RestorationTraining

    if training.ssim_weight is None and training.pixel_loss == "l1":
        return None
    if not isinstance(model, RestorationTraining) or getattr(model, "head", "image") != "image":
        raise RecipeError("training.ssim_weight and training.pixel_loss apply to "
                          "image-restoring models (inpainting, denoising); leave them out "
                          "for this one.")
    return ReconstructionLoss(ssim_weight=training.ssim_weight or 0.0,
                              pixel_loss=training.pixel_loss)


def schedule_offset(run_dir, steps_per_epoch):
    """The learning-rate schedule's step at which the optimizer's own counter restarts,
    for a run resumed from `run_dir`'s backup: 0 for a new run; the backed-up epoch x
    steps_per_epoch when the backup holds no optimizer state (a `zoo snapshot`, so
    the optimizer starts afresh); otherwise the offset the backup recorded (a run that
    was itself continued from a snapshot)."""
    metadata_path = run_dir / "backup" / "training_metadata.json"
    weights_path = run_dir / "backup" / "latest.weights.h5"
    if not metadata_path.is_file() or not weights_path.is_file():
        return 0
    metadata = json.loads(metadata_path.read_text())
    with h5py.File(weights_path, "r") as weights:
        has_optimizer = any("optimizer" in key for key in weights)
    if has_optimizer:
        return int(metadata.get("schedule_offset", 0))
    return int(metadata.get("epoch", 0)) * int(steps_per_epoch)


def _datasets(recipe, task, channels, noise_level=False):
    data, degradation = recipe.data, Degradation(**dataclasses.asdict(recipe.degradation))
    common = dict(crop_size=data.crop_size, channels=channels, path=data.path,
                  validation_fraction=data.validation_fraction, seed=recipe.seed)
    train_source = open_source(data.dataset, "train", augment=data.augment,
                               min_side=data.min_side, **common)
    train = EpochBatches(BatchMaker(task, train_source, data.batch_size, degradation,
                                    recipe.seed, "train", noise_level),
                         recipe.training.steps_per_epoch, workers=data.workers)
    if task == "generate":
        return train, None  # a GAN has no validation loss
    validation_source = open_source(data.dataset, "validation", augment=False, **common)
    validation = EpochBatches(BatchMaker(task, validation_source, data.batch_size,
                                         degradation, recipe.seed, "validation", noise_level),
                              data.validation_batches, fixed_epoch=0)
    return train, validation


def _callbacks(recipe, task, run_dir, train, validation, model, schedule_offset):
    """In order: the guard first (at an epoch's end it stops a blown-up run before
    anything of that epoch is written), the logs, the best checkpoint, and the backup
    last (so a kill never leaves a backup ahead of the logs; `_trim_logs` drops rows
    ahead of the backup)."""
    cb = recipe.callbacks
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    callbacks = [NaNGuard(recipe.training.learning_rate, recipe.training.mixed_precision,
                          run_dir / "logs" / "history.csv"),
                 FollowEpoch(train, validation),
                 keras.callbacks.CSVLogger(str(run_dir / "logs" / "history.csv"), append=True),
                 EpochClock(run_dir / "logs" / "clock.csv")]
    tensorboard_dir = None
    if cb.tensorboard and tensorboard_available():
        tensorboard_dir = run_dir / "logs" / "tensorboard"
        callbacks.append(keras.callbacks.TensorBoard(str(tensorboard_dir), write_graph=False))
    if cb.samples_every > 0:
        if task == "generate":
            rng = np.random.default_rng(recipe.seed)
            latents = rng.standard_normal((cb.sample_count, model.latent_dim)).astype("float32")
            sample_data = dict(latents=latents)
        else:
            x, y = validation.maker.batch(0, 0)
            take = min(cb.sample_count, len(y))
            x = {k: v[:take] for k, v in x.items()} if isinstance(x, dict) else x[:take]
            sample_data = dict(x=x, y=y[:take])
        callbacks.append(SampleGrid(task, run_dir / "samples", cb.samples_every,
                                    tensorboard_dir=tensorboard_dir and tensorboard_dir / "samples",
                                    **sample_data))
    if cb.checkpoint_best and validation is not None:
        callbacks.append(BestModel(run_dir / "checkpoints" / "best.keras", cb.monitor,
                                   history=run_dir / "logs" / "history.csv"))
    callbacks.append(RunBackup(run_dir / "backup", schedule_offset))
    return callbacks


def _keras_data(batches, strategy):
    if batches is None or keras.backend.backend() != "tensorflow":
        return batches
    return distribute.prepare_dataset(to_tf_dataset(batches), strategy)


def _run_config(recipe, strategy_name):
    import zoo

    return {"recipe": recipe.to_dict(), "backend": keras.backend.backend(),
            "strategy": strategy_name, "keras": keras.__version__, "zoo": zoo.__version__,
            "python": platform.python_version(), "machine": platform.machine()}


def train(recipe, out_dir, *, resume=False, strategy="none", verbose="auto", init_from=None):
    """Train `recipe` (a `training.recipe.Recipe`) into the run folder `out_dir`.

    `init_from`: start a new run from these weights instead of the initializers: a run
    folder (its latest backup, else its model.keras), a .keras file or a .weights.h5 file
    of the same architecture (`initial_weights`). A resumed run continues from its own
    backup and ignores it.

    `resume` continues a run killed mid-way from its last finished epoch (a run killed
    after its last epoch only writes model.keras and metrics.json). `strategy`: "none",
    "mirrored" or "multiworker" (TensorFlow), or "data_parallel" (JAX, all local
    devices). Returns a `RunResult`; raises `RecipeError` (or another ValueError /
    OSError naming the problem) before anything is written, and `TrainingDiverged` when
    the loss or the weights stop being finite.
    """
    if resume and strategy == "multiworker":
        raise ValueError("--resume is not supported with the multiworker strategy: each "
                         "worker keeps its own backup, and only the chief's survives.")
    out_dir = Path(out_dir)
    writes_files = distribute.is_chief()
    config = _run_config(recipe, strategy)
    existed, new_run = out_dir.exists(), not (out_dir / "config.json").exists()
    if writes_files:
        _check_run_dir(out_dir, config, resume)  # a new run's folder is absent or empty
    precision = recipe.training.mixed_precision
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32" if precision == "none" else precision)
    try:
        offset = schedule_offset(out_dir, recipe.training.steps_per_epoch) if resume else 0
        session = _Session(recipe, strategy, offset)
        if init_from is not None:
            config["init_from"] = str(init_from)
            if not (resume and _backed_up_epochs(out_dir)):
                load_initial_weights(session.model, init_from)
        if writes_files:
            write_json(config, out_dir / "config.json")
            _trim_logs(out_dir)
            if init_from is not None and not (out_dir / WARM_START_CURVE).is_file():
                warm_start = source_curve(init_from)
                if warm_start is not None:  # the run it continues, for its training curve
                    write_json(warm_start, out_dir / WARM_START_CURVE)
        try:
            # Workers other than the chief write to a temporary folder: every worker must
            # save (saving distributed variables runs collectives), only one may own the
            # files.
            with distribute.chief_or_temp_dir(out_dir) as run_dir:
                return session.run(Path(run_dir), verbose, writes_files)
        except BaseException:
            if writes_files and new_run:
                _remove_unstarted_run(out_dir, existed)
            raise
    finally:
        keras.config.set_dtype_policy(previous_policy)


class _Session:
    """A run's model and data, built (and so checked) before its folder is written."""

    def __init__(self, recipe, strategy_name, schedule_offset=0):
        keras.utils.set_random_seed(recipe.seed)
        self.recipe, self.strategy, self.schedule_offset = recipe, None, schedule_offset
        if strategy_name == "data_parallel":
            distribute.use_jax_data_parallel()
        else:
            self.strategy = distribute.make_strategy(strategy_name)
        total_steps = recipe.training.epochs * recipe.training.steps_per_epoch
        with distribute.strategy_scope(self.strategy):
            self.model = build_model(recipe)
            compile_model(self.model, recipe, total_steps, schedule_offset)
        self.task = task_of(self.model)
        channels = model_image_shape(self.model)[2]
        noise_level = self.task != "generate" and takes_noise_level(self.model)
        self.train, self.validation = _datasets(recipe, self.task, channels, noise_level)

    def run(self, run_dir, verbose, writes_files):
        recipe, model = self.recipe, self.model
        callbacks = _callbacks(recipe, self.task, run_dir, self.train, self.validation,
                               model, self.schedule_offset)
        started = time.perf_counter()
        history = model.fit(_keras_data(self.train, self.strategy),
                            epochs=recipe.training.epochs,
                            validation_data=_keras_data(self.validation, self.strategy),
                            callbacks=callbacks, verbose=verbose, shuffle=False).history
        seconds = time.perf_counter() - started
        last = {k: v[-1] for k, v in history.items() if v} or _last_logged(run_dir)
        metrics = {"history_last_epoch": last}
        if self.validation is not None:
            metrics["validation"] = model.evaluate(
                _keras_data(self.validation, self.strategy), verbose=0, return_dict=True)
        epochs_run = len(history.get("loss", history.get("d_loss", [])))
        metrics.update(train_seconds_this_session=seconds, epochs_this_session=epochs_run,
                       images_per_second=(epochs_run * recipe.training.steps_per_epoch
                                          * recipe.data.batch_size / seconds) if seconds else None)
        save_model_atomically(model, run_dir / "model.keras")
        if writes_files:
            write_json(metrics, run_dir / "metrics.json")
        # The backup goes last, renamed away first: a kill never leaves half of one.
        if (run_dir / "backup").exists():
            removing = run_dir / "backup.removing"
            shutil.rmtree(removing, ignore_errors=True)
            (run_dir / "backup").rename(removing)
            shutil.rmtree(removing)
        return RunResult(run_dir, model, history, metrics)


def _last_logged(run_dir):
    """The last row of logs/history.csv as numbers (a resumed run that had no epoch left)."""
    path = run_dir / "logs" / "history.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {k: float(v) for k, v in rows[-1].items() if k != "epoch" and v} if rows else {}

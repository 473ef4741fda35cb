"""`train(recipe, out_dir)`: one training run, resumable, in its own folder.

    OUT/config.json             the recipe as it ran (overrides applied), backend, versions
    OUT/backup/                 Keras BackupAndRestore state (what --resume continues from)
    OUT/checkpoints/best.keras  the model with the best validation loss so far
    OUT/logs/history.csv        one row per epoch; logs/tensorboard/ scalars and images
    OUT/samples/epoch_NNN.png   sample grids
    OUT/model.keras             the final model
    OUT/metrics.json            validation metrics of the final model, throughput

Every file is written through a temporary name and a rename.
"""

import dataclasses
import json
import math
import platform
import time
from pathlib import Path

import keras
import numpy as np

from training import distribute
from training.callbacks import (
    BestModel,
    EpochClock,
    NaNGuard,
    ResumeStepCount,
    SampleGrid,
    TrainingDiverged,
    save_model_atomically,
    tensorboard_available,
)
from training.files import write_json
from training.optimizers import build_optimizer
from training.pipeline import BatchMaker, EpochBatches, FollowEpoch, to_tf_dataset
from training.recipe import RecipeError
from training.sources import open_source
from training.tasks import Degradation, model_image_shape, task_of
from zoo.inference import takes_noise_level


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


def _prepare_run_dir(run_dir, config, resume):
    config_path = run_dir / "config.json"
    if config_path.exists():
        if not resume:
            raise FileExistsError(f"{run_dir} already holds a run; pass --resume to continue "
                                  "it or --out to choose another folder.")
        previous = json.loads(config_path.read_text())["recipe"]
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
    elif run_dir.exists() and any(run_dir.iterdir()) and not resume:
        raise FileExistsError(f"{run_dir} exists and is not empty; choose another --out.")
    write_json(config, config_path)


def build_model(recipe, channels_hint=3):
    """The recipe's model, checked against its crop size."""
    import zoo

    model = zoo.create_model(recipe.model.architecture, **recipe.model.config)
    height, width, _ = model_image_shape(model)
    crop = tuple(recipe.data.crop_size)
    if height is not None and (height, width) != crop:
        raise RecipeError(f"data.crop_size {list(crop)} does not match the model's fixed "
                          f"input size {[height, width]} (model.config.image_shape).")
    return model


def compile_model(model, recipe, total_steps):
    """Compile with the recipe's optimizer and schedule (the model's standard loss)."""
    from zoo.models.dcgan import DCGAN

    training = recipe.training
    jit = True if keras.backend.backend() == "jax" else training.jit_compile
    if isinstance(model, DCGAN):
        model.compile(d_optimizer=build_optimizer(training, total_steps, gan=True),
                      g_optimizer=build_optimizer(training, total_steps, gan=True,
                                                  ema=training.generator_ema),
                      loss=training.adversarial_loss, r1_gamma=training.r1_gamma,
                      jit_compile=jit)
    else:
        model.compile(optimizer=build_optimizer(training, total_steps), jit_compile=jit)


def _datasets(recipe, task, channels, noise_level=False):
    data, degradation = recipe.data, Degradation(**dataclasses.asdict(recipe.degradation))
    common = dict(crop_size=data.crop_size, channels=channels, path=data.path,
                  validation_fraction=data.validation_fraction, seed=recipe.seed)
    train_source = open_source(data.dataset, "train", augment=data.augment, **common)
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


def _callbacks(recipe, task, run_dir, train, validation, model):
    cb = recipe.callbacks
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    callbacks = [FollowEpoch(train, validation),
                 keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
                 ResumeStepCount(run_dir / "backup" / "training_metadata.json",
                                 recipe.training.steps_per_epoch),
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
    guard = NaNGuard(recipe.training.learning_rate, recipe.training.mixed_precision)
    callbacks.append(guard)
    return callbacks, guard


def _keras_data(batches, strategy):
    if batches is None or keras.backend.backend() != "tensorflow":
        return batches
    return distribute.prepare_dataset(to_tf_dataset(batches), strategy)


def _run_config(recipe, strategy_name):
    import zoo

    return {"recipe": recipe.to_dict(), "backend": keras.backend.backend(),
            "strategy": strategy_name, "keras": keras.__version__, "zoo": zoo.__version__,
            "python": platform.python_version(), "machine": platform.machine()}


def train(recipe, out_dir, *, resume=False, strategy="none", verbose="auto"):
    """Train `recipe` (a `training.recipe.Recipe`) into the run folder `out_dir`.

    `resume` continues a run killed mid-way from its last finished epoch.
    `strategy`: "none", "mirrored" or "multiworker" (TensorFlow), or "data_parallel"
    (JAX, all local devices). Returns a `RunResult`; raises `TrainingDiverged` when
    the loss becomes NaN.
    """
    if resume and strategy == "multiworker":
        raise ValueError("--resume is not supported with the multiworker strategy: each "
                         "worker keeps its own backup, and only the chief's survives.")
    writes_files = distribute.is_chief()
    if writes_files:
        _prepare_run_dir(Path(out_dir), _run_config(recipe, strategy), resume)
    precision = recipe.training.mixed_precision
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32" if precision == "none" else precision)
    try:
        # Workers other than the chief write to a temporary folder: every worker must
        # save (saving distributed variables runs collectives), only one may own the files.
        with distribute.chief_or_temp_dir(out_dir) as run_dir:
            return _train(recipe, Path(run_dir), strategy, verbose, writes_files)
    finally:
        keras.config.set_dtype_policy(previous_policy)


def _train(recipe, run_dir, strategy_name, verbose, writes_files):
    keras.utils.set_random_seed(recipe.seed)
    strategy = None
    if strategy_name == "data_parallel":
        distribute.use_jax_data_parallel()
    else:
        strategy = distribute.make_strategy(strategy_name)
    total_steps = recipe.training.epochs * recipe.training.steps_per_epoch
    with distribute.strategy_scope(strategy):
        model = build_model(recipe)
        compile_model(model, recipe, total_steps)
    task = task_of(model)
    channels = model_image_shape(model)[2]
    train_batches, validation = _datasets(recipe, task, channels, takes_noise_level(model))
    callbacks, guard = _callbacks(recipe, task, run_dir, train_batches, validation, model)
    started = time.perf_counter()
    history = model.fit(_keras_data(train_batches, strategy), epochs=recipe.training.epochs,
                        validation_data=_keras_data(validation, strategy),
                        callbacks=callbacks, verbose=verbose, shuffle=False).history
    seconds = time.perf_counter() - started
    if guard.message:
        raise TrainingDiverged(guard.message)
    metrics = {"history_last_epoch": {k: v[-1] for k, v in history.items() if v}}
    if validation is not None:
        metrics["validation"] = model.evaluate(_keras_data(validation, strategy), verbose=0,
                                               return_dict=True)
    epochs_run = len(history.get("loss", history.get("d_loss", [])))
    metrics.update(train_seconds_this_session=seconds, epochs_this_session=epochs_run,
                   images_per_second=(epochs_run * recipe.training.steps_per_epoch
                                      * recipe.data.batch_size / seconds) if seconds else None)
    save_model_atomically(model, run_dir / "model.keras")
    if writes_files:
        write_json(metrics, run_dir / "metrics.json")
    return RunResult(run_dir, model, history, metrics)

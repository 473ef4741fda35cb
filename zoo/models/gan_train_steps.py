"""The DCGAN's alternating train step (discriminator, then generator), per backend.

Keras 3 has no backend-neutral gradient function, and the GAN needs two
gradient computations per step (plus a nested one for the R1 penalty), so the
step is written once for TensorFlow (GradientTape) and once for JAX (stateless,
jit-compiled by the Keras trainer). Each imports its backend inside the
function: importing `zoo` never imports TensorFlow.
"""

import keras
from keras import ops

from zoo.losses import discriminator_loss, generator_loss, r1_penalty


def _sum_of(penalties):
    return sum((ops.sum(ops.cast(p, "float32")) for p in penalties), ops.zeros((), "float32"))


def _replica_latents(gan, batch, tf):
    """N(0, 1) latents (batch, latent_dim), different on every replica.

    The seed generator's state is mirrored under tf.distribute, so drawing from it
    alone would give every replica the same latents: its seed is offset by the
    replica's id (0 without a strategy).
    """
    replica = tf.distribute.get_replica_context()
    replica_id = 0 if replica is None else replica.replica_id_in_sync_group
    seed = tf.cast(gan.seed_generator.next(), "int32") + tf.stack([0, replica_id])
    return tf.random.stateless_normal((batch, gan.latent_dim), seed=seed)


def tensorflow_train_step(gan, real):
    """One discriminator update then one generator update; returns the logs dict."""
    import tensorflow as tf  # noqa: PLC0415 - only on the TensorFlow backend

    generator, discriminator = gan.generator, gan.discriminator
    # Under tf.distribute the optimizers sum the replicas' gradients: divide each
    # replica's mean loss by their number, as Keras losses do, to get the mean.
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    batch = ops.shape(real)[0]
    latent = _replica_latents(gan, batch, tf)
    fake = generator(latent, training=True)
    with tf.GradientTape() as tape:
        if gan.r1_gamma > 0:
            with tf.GradientTape() as input_tape:
                input_tape.watch(real)
                real_logits = discriminator(real, training=True)
                real_score = ops.sum(real_logits)
            input_gradients = input_tape.gradient(real_score, real)
            penalty = r1_penalty(input_gradients, gan.r1_gamma)
        else:
            real_logits = discriminator(real, training=True)
            penalty = 0.0
        fake_logits = discriminator(fake, training=True)
        d_loss = discriminator_loss(real_logits, fake_logits, gan.adversarial_loss)
        d_total = d_loss + penalty + _sum_of(discriminator.losses)
        scaled = gan.d_optimizer.scale_loss(d_total / replicas)
    grads = tape.gradient(scaled, discriminator.trainable_variables)
    gan.d_optimizer.apply(grads, discriminator.trainable_variables)

    latent = _replica_latents(gan, batch, tf)
    with tf.GradientTape() as tape:
        fake_logits = discriminator(generator(latent, training=True), training=True)
        g_loss = generator_loss(fake_logits, gan.adversarial_loss)
        scaled = gan.g_optimizer.scale_loss((g_loss + _sum_of(generator.losses)) / replicas)
    grads = tape.gradient(scaled, generator.trainable_variables)
    gan.g_optimizer.apply(grads, generator.trainable_variables)
    return gan.update_loss_trackers(d_loss, g_loss)


def jax_train_step(gan, state, real):
    """Stateless step for the Keras JAX trainer: (state, images) -> (logs, new state)."""
    import jax  # noqa: PLC0415 - only on the JAX backend

    trainable, non_trainable, optimizer_values, metric_values = state
    generator, discriminator = gan.generator, gan.discriminator
    values = {id(v): x for v, x in zip(gan.trainable_variables, trainable, strict=True)}
    values.update({id(v): x for v, x in zip(gan.non_trainable_variables, non_trainable,
                                            strict=True)})

    def lookup(variables):
        return [values[id(v)] for v in variables]

    def store(variables, new_values):
        values.update({id(v): x for v, x in zip(variables, new_values, strict=True)})

    split = len(gan.d_optimizer.variables)
    d_opt_values, g_opt_values = optimizer_values[:split], optimizer_values[split:]

    seed_state = gan.seed_generator.state
    with keras.StatelessScope(state_mapping=[(seed_state, values[id(seed_state)])]) as scope:
        batch = ops.shape(real)[0]
        latent_d = keras.random.normal((batch, gan.latent_dim), seed=gan.seed_generator)
        latent_g = keras.random.normal((batch, gan.latent_dim), seed=gan.seed_generator)
        values[id(seed_state)] = scope.get_current_value(seed_state)

    def scale(optimizer, optimizer_state, loss):
        mapping = list(zip(optimizer.variables, optimizer_state, strict=True))
        with keras.StatelessScope(state_mapping=mapping):
            return optimizer.scale_loss(loss)

    d_train = lookup(discriminator.trainable_variables)
    g_train = lookup(generator.trainable_variables)
    fake, g_state = generator.stateless_call(
        g_train, lookup(generator.non_trainable_variables), latent_d, training=True)
    store(generator.non_trainable_variables, g_state)

    def d_objective(d_train, d_state):
        real_logits, d_state, penalties = discriminator.stateless_call(
            d_train, d_state, real, training=True, return_losses=True)
        fake_logits, d_state = discriminator.stateless_call(d_train, d_state, fake, training=True)
        loss = discriminator_loss(real_logits, fake_logits, gan.adversarial_loss)
        total = loss + _sum_of(penalties)
        if gan.r1_gamma > 0:
            def real_score(images):
                return ops.sum(discriminator.stateless_call(d_train, d_state, images,
                                                            training=True)[0])
            total = total + r1_penalty(jax.grad(real_score)(real), gan.r1_gamma)
        return scale(gan.d_optimizer, d_opt_values, total), (loss, d_state)

    (_, (d_loss, d_state)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(
        d_train, lookup(discriminator.non_trainable_variables))
    d_train, d_opt_values = gan.d_optimizer.stateless_apply(d_opt_values, d_grads, d_train)
    store(discriminator.trainable_variables, d_train)
    store(discriminator.non_trainable_variables, d_state)

    def g_objective(g_train, g_state, d_state):
        fake, g_state, penalties = generator.stateless_call(
            g_train, g_state, latent_g, training=True, return_losses=True)
        fake_logits, d_state = discriminator.stateless_call(d_train, d_state, fake, training=True)
        loss = generator_loss(fake_logits, gan.adversarial_loss)
        total = loss + _sum_of(penalties)
        return scale(gan.g_optimizer, g_opt_values, total), (loss, g_state, d_state)

    (_, (g_loss, g_state, d_state)), g_grads = jax.value_and_grad(g_objective, has_aux=True)(
        g_train, lookup(generator.non_trainable_variables),
        lookup(discriminator.non_trainable_variables))
    g_train, g_opt_values = gan.g_optimizer.stateless_apply(g_opt_values, g_grads, g_train)
    store(generator.trainable_variables, g_train)
    store(generator.non_trainable_variables, g_state)
    store(discriminator.non_trainable_variables, d_state)

    mapping = list(zip(gan.metrics_variables, metric_values, strict=True))
    with keras.StatelessScope(state_mapping=mapping) as scope:
        logs = gan.update_loss_trackers(d_loss, g_loss)
    metric_values = [scope.get_current_value(v) for v in gan.metrics_variables]
    new_state = (
        lookup(gan.trainable_variables),
        lookup(gan.non_trainable_variables),
        list(d_opt_values) + list(g_opt_values),
        metric_values,
    )
    return logs, new_state

"""`get_config` / `from_config` for models whose config is their constructor arguments."""


class StoredConfig:
    """Mixin: `_store_config(**arguments)` keeps each argument as an attribute, and
    `get_config()` returns them all (tuples as lists, so the config is JSON)."""

    def _store_config(self, **arguments):
        self._config_keys = tuple(arguments)
        for key, value in arguments.items():
            setattr(self, key, value)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        for key in self._config_keys:
            value = getattr(self, key)
            config[key] = list(value) if isinstance(value, tuple) else value
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

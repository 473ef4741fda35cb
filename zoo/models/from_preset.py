"""`Model.from_preset(...)`, as keras-hub models have it, for every zoo family."""


class FromPreset:
    """Mixin: `from_preset(preset, compile=True)` builds the preset's model with its
    weights through `zoo.load` (every file checked), refusing a preset of another class."""

    @classmethod
    def from_preset(cls, preset, compile=True):
        """The pretrained `preset`: a shipped preset's name or a preset folder's path.

        Raises `zoo.PresetError` for an unknown or damaged preset, and for one whose
        model is not a `cls` (the message names the class to use).
        """
        from zoo.presets import PresetError, load

        model = load(preset, compile=compile)
        if not isinstance(model, cls):
            raise PresetError(f"Preset {preset!r} is a {type(model).__name__}, not a "
                              f"{cls.__name__}: use {type(model).__name__}.from_preset or "
                              "zoo.load.")
        return model

"""The core's pipeline stages, one module each; each module's ``STAGE`` is registered by
:mod:`verikit.default_plugins.stages` (a plugin's stage is registered the same way)."""

"""The core's own components, registered through the same hooks as any third-party plugin (as simonw/llm's
``default_plugins``): step splitters, estimators, selectors, completer backends, scorers and annotation
strategies. Heavy implementations are registered as ``"module:attribute"`` strings, imported on first use."""

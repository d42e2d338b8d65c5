"""verikit-medqa: medical multiple-choice reasoning as a verikit domain, built only on verikit's public API.

It brings what a new domain needs and nothing else: an answer checker that reads the chosen option from
free text, a splitter for prose reasoning, and a loader for ``{question, options, answer}`` JSONL files.
Annotation, reward-model training and scoring are verikit's own, unchanged.
"""

__version__ = "0.1.0"

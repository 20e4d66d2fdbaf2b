"""Annotators behind small interfaces: an embedded CPU backend each, and model backends (transformers, vLLM) where a real model exists. Filled by the annotation stages."""

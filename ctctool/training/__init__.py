"""Training a CTC acoustic model: corpora, batching, augmentation and the training loop."""

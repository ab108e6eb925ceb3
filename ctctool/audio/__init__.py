"""Audio files as mono float tensors (``loading``) and band-limited resampling (``resample``)."""

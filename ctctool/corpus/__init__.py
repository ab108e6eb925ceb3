"""Corpus runs: a manifest through an acoustic model and an align, transcribe or emissions job, in batches,
in shards and on executors (this process, or a Ray cluster), resumable, with one report per shard.

- ``plan``: the deterministic split: items ordered by a hash of their id, cut into groups; groups to shards;
  a group's audio cut into batches by length.
- ``jobs``: what each command makes of an item's log-probs (``AlignJob``, ``TranscribeJob``, ``EmissionsJob``).
- ``stages``: the steps every executor runs: load a group's audio, run the model on a batch, finish an item.
- ``local``, ``ray_executor``: the executors; ``runner``: ``run_corpus``, the one call; ``reports``: progress,
  summaries, shard reports and their merge.
"""

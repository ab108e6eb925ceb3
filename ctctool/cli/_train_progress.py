"""How ``ctctool train`` shows its progress: a rich progress bar and an epoch table on stderr."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


PLAIN_EVERY = 50  # batches between progress lines when stderr is not a terminal


class TrainProgress:
    """Receives the training loop's events and draws them (only on rank 0)."""

    def __init__(self, enabled: bool, corpus):
        self.enabled = enabled
        self.console = Console(stderr=True)
        self.progress = Progress(TextColumn("epoch {task.fields[epoch]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                                 TextColumn("loss {task.fields[loss]:.3f}"), TextColumn("{task.fields[speed]:.0f}x real time"),
                                 TimeElapsedColumn(), console=self.console,
                                 disable=not enabled or not self.console.is_terminal)
        self.task = None
        self.epoch = -1
        self.corpus = corpus

    def __enter__(self):
        if self.enabled:
            rejected = self.corpus.rejected
            for reason in rejected[:20]:
                print(f"warning: left out {reason}", file=sys.stderr)
            if len(rejected) > 20:
                print(f"warning: left out {len(rejected) - 20} more utterances", file=sys.stderr)
            if self.corpus.normalised:
                print(f"note: normalised {self.corpus.normalised} transcript(s) to the vocabulary, e.g. "
                      f"{'; '.join(self.corpus.examples)}", file=sys.stderr)
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def event(self, name: str, data: dict) -> None:
        if not self.enabled:
            return
        if name == "start":
            self.console.print(f"training on {data['train']} utterances ({data['train_hours']:.2f} h), validating on "
                               f"{data['validation']}; {data['parameters']:,} parameters; {data['batches_per_epoch']} batches per epoch")
        elif name == "step" and not self.console.is_terminal:
            if data["batch"] % PLAIN_EVERY == 0 or data["batch"] == data["batches"]:
                self.console.print(f"epoch {data['epoch'] + 1} batch {data['batch']}/{data['batches']}: loss "
                                   f"{data['loss']:.3f}, lr {data['lr']:.2e}, {data['audio_per_second']:.0f}x real time")
        elif name == "step":
            if self.task is None or self.epoch != data["epoch"]:
                if self.task is not None:
                    self.progress.remove_task(self.task)
                self.epoch = data["epoch"]
                self.task = self.progress.add_task("train", total=data["batches"], completed=data["batch"] - 1,
                                                   epoch=data["epoch"] + 1, loss=data["loss"], speed=0.0)
            self.progress.update(self.task, completed=data["batch"], loss=data["loss"], speed=data["audio_per_second"])
        elif name == "epoch":
            self.console.print(f"epoch {data['epoch']}: validation loss {data['val_loss']:.3f}, greedy WER "
                               f"{100 * data['wer']:.2f}%, CER {100 * data['cer']:.2f}%")
            for reference, prediction in data["examples"]:
                self.console.print(f"  target:     {escape(reference)}\n  prediction: {escape(prediction)}")
        elif name == "skipped":
            self.console.print(f"warning: left out {escape(data['error'])}", soft_wrap=True)
        elif name == "stopped":
            self.console.print(f"stopped after --max-minutes at epoch {data['epoch'] + 1}, batch {data['position']}; "
                               "continue with --resume")

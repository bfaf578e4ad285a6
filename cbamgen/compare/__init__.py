"""``cbamgen compare``: train a network with each spec's block, and without, over
several seeds, and report whether the differences exceed seed noise.

One module per job: ``blocks`` (specs to layer factories), ``data`` (the images),
``models`` (the networks), ``train`` (one run), ``attention`` (the gates of a trained
network), ``gates`` (gates that learned nothing), ``trials`` (KerasTuner: oracle and
tuner), ``results`` (tables from the trial records), ``stats`` (paired and Welch's
tests, Holm's adjustment), ``plots`` and ``report`` (the output folder), ``progress``
(trial, epoch, loss, time left), ``command`` (checks inputs, then runs it all).

Nothing here is imported by the other commands: it needs the ``compare`` extra.
"""

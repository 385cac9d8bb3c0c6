"""Training: where and how a job computes, batches, optimizers, the run's files, the classifiers' and the DCGAN's
training; sharing/, training jobs that share a GPU.

- batches: What every batched loop of the study shares: batch slices, the classifiers' input, divergence.
- checkpoints: The files of a training run's lifecycle: per-epoch resume states and self-describing results.
- device: Choosing the device and the numeric precision a job runs with.
- gan: DCGAN training on the training images (labels unused), and its fixed-noise sample grid.
- optim: SGD and Adam as the study uses them, step for step the arithmetic of torch.optim's.
- runtime: Where and how a job computes: its device, the precision it resolved and the precision that ran, the
  classifiers' memory format, each run's own random streams, and the CUDA graphs its repeated steps replay as.
- train: Classifier training: the recipe of the study, with G recorded from the training step.
- sharing/: training jobs that share a device (together, rendezvous, private_folders).
"""

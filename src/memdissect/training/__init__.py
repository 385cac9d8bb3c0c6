"""Training: where and how a job computes, batches, optimizers, the run's files, the classifiers' and the DCGAN's
training with what it records on the way, classifiers trained elsewhere read in; sharing/, training jobs that
share a GPU.

- batches: What every batched loop of the study shares: batch slices, the classifiers' input, divergence.
- checkpoints: The files of a training run's lifecycle: per-epoch resume states and self-describing results.
- device: Choosing the device and the numeric precision a job runs with.
- gan: DCGAN training on the training images (labels unused), and its fixed-noise sample grid.
- group_metrics: Learn, then memorize: train accuracy and G of the clean and of the relabeled samples, from the
  training step.
- imported: Classifiers trained elsewhere, read into memdissect's form: a plain state_dict (as torch.save of
  ``model.state_dict()`` writes it, also under a "state_dict" key or with DataParallel's "module." prefix) or a
  memdissect checkpoint, loaded into the configured architecture; a file that does not fit it is refused naming
  every tensor that does not.
- optim: SGD and Adam as the study uses them, step for step the arithmetic of torch.optim's.
- probe_path: What training records of its path in function space: its log-probabilities on a fixed probe set
  after each epoch (memdissect.analyses.function_paths compares the paths).
- runtime: Where and how a job computes: its device, the precision it resolved and the precision that ran, the
  classifiers' memory format, each run's own random streams, and the CUDA graphs its repeated steps replay as.
- train: Classifier training: the recipe of the study, with G recorded from the training step.
- sharing/: Training jobs that share a device: one process trains them all, in a room private to the job's user.
"""

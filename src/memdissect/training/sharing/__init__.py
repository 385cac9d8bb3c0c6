"""Training jobs that share a device: one process trains them all, in a room private to the job's user.

- private_folders: The folders memdissect keeps outside the working directory, private to the job's user.
- rendezvous: Where training jobs that run on the same device at the same time meet, so that one process trains them
  all.
- together: A classifier's training job, alone or together with the other training jobs on its device.
"""

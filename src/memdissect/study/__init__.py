"""The study as the config describes it, torch-free, so that the workflow plans it cheaply on every job start: its
classifiers and pairs, the checks before any job, the typed settings, the architectures, the plan, the GPU jobs'
requests.

- architectures: Which architectures a model group may name, and the source files each one's models depend on.
- design: The study as the config describes it: which classifiers exist, what each is trained with, which patterns
  are synthesized and which pairs are compared.
- history: The columns of a classifier's per-epoch history (results/models/<model>/history.parquet), torch-free for
  the tables and figures that read it.
- plan: The study plan: every artifact's path and every job's inputs and params, a pure function of the validated
  config (defaults filled in).
- resources: What a GPU job of the study asks its scheduler for: one GPU, host CPUs, memory, wall time.
- schema: The config's JSON schema and its messages: each names the key path (``models[0].arch``), the bad value and
  what would be valid, so that a typo is found by a dry run, not after ten models have trained.
- settings: The settings that decide a trained classifier, the DCGAN, the patterns and the intervals: one dataclass
  per config section, with the schema's defaults (tests/unit/study/test_settings.py holds them to
  workflow/schemas/config.schema.yaml).
- validation: A study's config checked before any job starts: one clear message per problem.
"""

rule train_classifier:
    input:
        unpack(get_training_inputs),
    output:
        weights="results/models/{model}/weights.pt",
        history="results/models/{model}/history.parquet",
        test_outputs="results/models/{model}/test_outputs.pt",
    params:
        settings=get_classifier_settings,
    log:
        "logs/train_classifier/{model}.log",
    benchmark:
        "results/benchmarks/train_classifier/{model}.tsv"
    conda:
        ENV
    script:
        "../scripts/train_classifier.py"

localrules:
    figure1,
    figure2,
    figure3,
    figure4,
    figure5,


rule figure1:
    input:
        histories=get_figure1_histories,
    output:
        pdf=figure_paths(1)["pdf"],
        png=report(figure_paths(1)["png"], caption="../report/figure1.rst", category="Figures", labels={"figure": "1"}),
    params:
        spec=canonical(get_figure1_params),
    log:
        "logs/figures/figure1.log",
    conda:
        ENV
    script:
        "../scripts/figure1.py"


rule figure2:
    input:
        summary=rules.dist_tables.output.summary_parquet,
    output:
        pdf=figure_paths(2)["pdf"],
        png=report(figure_paths(2)["png"], caption="../report/figure2.rst", category="Figures", labels={"figure": "2"}),
    params:
        spec=canonical(get_figure2_params),
    log:
        "logs/figures/figure2.log",
    conda:
        ENV
    script:
        "../scripts/figure2.py"


rule figure3:
    input:
        patterns=get_figure3_patterns,
    output:
        pdf=figure_paths(3)["pdf"],
        png=report(figure_paths(3)["png"], caption="../report/figure3.rst", category="Figures", labels={"figure": "3"}),
    params:
        spec=canonical(get_figure3_params),
    log:
        "logs/figures/figure3.log",
    conda:
        ENV
    script:
        "../scripts/figure3.py"


rule figure4:
    input:
        histories=get_figure4_histories,
    output:
        pdf=figure_paths(4)["pdf"],
        png=report(figure_paths(4)["png"], caption="../report/figure4.rst", category="Figures", labels={"figure": "4"}),
    params:
        spec=canonical(get_figure4_params),
    log:
        "logs/figures/figure4.log",
    conda:
        ENV
    script:
        "../scripts/figure4.py"


rule figure5:
    input:
        summary=rules.dist_tables.output.summary_parquet,
    output:
        pdf=figure_paths(5)["pdf"],
        png=report(figure_paths(5)["png"], caption="../report/figure5.rst", category="Figures", labels={"figure": "5"}),
    params:
        spec=canonical(get_figure5_params),
    log:
        "logs/figures/figure5.log",
    conda:
        ENV
    script:
        "../scripts/figure5.py"

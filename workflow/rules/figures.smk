# results/figures: Figures 1 to 5 of the paper, the Dist matrices and the cross-check figure.


localrules:
    figure1,
    figure2,
    figure3,
    figure4,
    figure5,
    dist_matrix_figure,
    crosscheck_figure,


rule figure1:
    input:
        unpack(inputs_of("figure1")),
    output:
        pdf=outputs_of("figure1")["pdf"],
        png=report(outputs_of("figure1")["png"], caption="../report/figure1.rst", category="Figures", labels={"figure": "1"}),
    params:
        **params_of("figure1", "spec"),
    log:
        "logs/figures/figure1.log",
    conda:
        ENV
    script:
        "../scripts/figure1.py"


rule figure2:
    input:
        unpack(inputs_of("figure2")),
    output:
        pdf=outputs_of("figure2")["pdf"],
        png=report(outputs_of("figure2")["png"], caption="../report/figure2.rst", category="Figures", labels={"figure": "2"}),
    params:
        **params_of("figure2", "spec"),
    log:
        "logs/figures/figure2.log",
    conda:
        ENV
    script:
        "../scripts/figure2.py"


rule figure3:
    input:
        unpack(inputs_of("figure3")),
    output:
        pdf=outputs_of("figure3")["pdf"],
        png=report(outputs_of("figure3")["png"], caption="../report/figure3.rst", category="Figures", labels={"figure": "3"}),
    params:
        **params_of("figure3", "spec"),
    log:
        "logs/figures/figure3.log",
    conda:
        ENV
    script:
        "../scripts/figure3.py"


rule figure4:
    input:
        unpack(inputs_of("figure4")),
    output:
        pdf=outputs_of("figure4")["pdf"],
        png=report(outputs_of("figure4")["png"], caption="../report/figure4.rst", category="Figures", labels={"figure": "4"}),
    params:
        **params_of("figure4", "spec"),
    log:
        "logs/figures/figure4.log",
    conda:
        ENV
    script:
        "../scripts/figure4.py"


rule figure5:
    input:
        unpack(inputs_of("figure5")),
    output:
        pdf=outputs_of("figure5")["pdf"],
        png=report(outputs_of("figure5")["png"], caption="../report/figure5.rst", category="Figures", labels={"figure": "5"}),
    params:
        **params_of("figure5", "spec"),
    log:
        "logs/figures/figure5.log",
    conda:
        ENV
    script:
        "../scripts/figure5.py"


rule dist_matrix_figure:
    input:
        unpack(inputs_of("dist_matrix_figure")),
    output:
        pdf=outputs_of("dist_matrix_figure", condition="{condition}")["pdf"],
        png=report(
            outputs_of("dist_matrix_figure", condition="{condition}")["png"],
            caption="../report/dist_matrix.rst",
            category="Figures",
            labels={"figure": "Dist matrix", "condition": "{condition}"},
        ),
    log:
        "logs/figures/dist_matrix_{condition}.log",
    conda:
        ENV
    script:
        "../scripts/dist_matrix_figure.py"


rule crosscheck_figure:
    input:
        unpack(inputs_of("crosscheck_figure")),
    output:
        pdf=outputs_of("crosscheck_figure")["pdf"],
        png=report(
            outputs_of("crosscheck_figure")["png"],
            caption="../report/crosscheck_figure.rst",
            category="Figures",
            labels={"figure": "Cross-checks"},
        ),
    params:
        **params_of("crosscheck_figure", "spec"),
    log:
        "logs/figures/crosscheck.log",
    conda:
        ENV
    script:
        "../scripts/crosscheck_figure.py"

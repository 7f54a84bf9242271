"""Conformance suites that run one contract over many implementations (drift tests,
streaming detectors, model flavors, alert channels), in the spirit of river's ``checks``
and scikit-learn's ``parametrize_with_checks``."""

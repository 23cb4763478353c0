"""Multi-echo EPI: read echo sets, fit T2* and S0, combine the echoes (Posse 1999).

Multi-echo is a feature of its own (its own inputs: a set of runs with echo times;
its own outputs: T2* / S0 maps, the adaptive mask and the optimally combined run), used
by the ``milna multiecho`` command and the QC tab. It reuses the QC streaming moments
(:mod:`napari_milna.core.qc.tsnr`) and the QC verdict (:func:`~napari_milna.core.qc.
coverage.run_qc`) through their public names; the fit and the combination are
tedana's (``tedana.utils.make_adaptive_mask``, ``tedana.decay.fit_decay``,
``tedana.combine.make_optcom``).
"""

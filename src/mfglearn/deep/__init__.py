"""Deep building blocks for continuous mean-field games (float32 by default, any device).

* :class:`~mfglearn.deep.flows.TimeFlow`: time-conditioned normalizing flow for a
  mean-field flow ``mu_t(x)`` (zuko; neural spline flow or RealNVP), fitted by maximum likelihood;
* :class:`~mfglearn.deep.cloning.GaussianPolicy` and
  :func:`~mfglearn.deep.cloning.behavioural_cloning`: a time-conditioned Gaussian policy
  fitted to ``(t, x, a)`` samples by negative log-likelihood (DEDA-FP's average policy).
"""

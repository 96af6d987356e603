"""Codecs: coordinates <-> training targets and network outputs -> coordinates, one seam for all heads."""

from facealign.codecs.regression import RegressionCodec, decode_regression, encode_regression

__all__ = ["RegressionCodec", "encode_regression", "decode_regression"]

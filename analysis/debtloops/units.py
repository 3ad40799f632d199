"""Unit conversions every layer shares.

The model computes rates and shares as fractions (a yield of 0.043 [1/year], a debt ratio of 1.18
[1]); the data files, the tables and the charts give them in percent or basis points.
"""

from __future__ import annotations

#: Percent in a whole [% per 1]: a fraction times this is percent.
PERCENT = 100.0
#: Basis points in a whole [bp per 1]: a rate of 0.0001 a year is one basis point.
BASIS_POINTS = 10_000.0

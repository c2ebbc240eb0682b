"""The coefficients of erf_fast and erfc_fast (kernels/cpu/branchless.h): least-squares fits on Chebyshev nodes, printed
as float literals, with the worst error of the float evaluation against math.erf in ulp.

    python3 tools/fit_erf.py        (needs numpy)

Below |x| = 1: erf(x) / x as a degree-6 polynomial in x^2 (relative weights). From 1 to 4: log erfc(x) as a
degree-9 polynomial in x - 2.5; erf = 1 - exp(that).

erfc_fast: erfcx(a) = exp(a^2) erfc(a) below a = 2 as a degree-13 polynomial in a - 1; from 2 to 10.1 a erfcx(a)
as a degree-8 polynomial in 1 / a^2 (relative weights); erfc = exp(-a^2) times that (the kernel splits a^2).
"""

import math

import numpy as np
from numpy.polynomial import polynomial as P


def nodes(lo, hi, n):
    k = np.arange(n)
    return (lo + hi) / 2 + (hi - lo) / 2 * np.cos((2 * k + 1) * np.pi / (2 * n))


def horner_f32(coef, t):
    c = coef.astype(np.float32)
    p = np.full_like(t, c[-1])
    for ci in c[-2::-1]:
        p = (p * t + ci).astype(np.float32)
    return p


def erfcx(v):
    return math.erfc(v) * math.exp(v * v)  # v a float32: v * v is exact in double


def ulps(got, x):
    ref = np.array([math.erf(float(v)) for v in x])
    return np.max(np.abs(got - ref) / np.spacing(np.abs(ref).astype(np.float32)))


def main():
    a = nodes(0, 1, 2000)
    f = np.array([math.erf(v) / v for v in a])
    small = P.polyfit(a * a, f, 6, w=1 / f)
    a = nodes(1, 4, 4000)
    tail = P.polyfit(a - 2.5, np.array([math.log(math.erfc(v)) for v in a]), 9)
    for name, c in (("P (x^2)", small), ("Q (|x| - 2.5)", tail)):
        print(name + ":", ", ".join("%.9ef" % np.float32(v) for v in c))
    a = nodes(0, 2, 3000)
    f = np.array([erfcx(v) for v in a])
    near = P.polyfit(a - 1, f, 13, w=1 / f)
    a = nodes(2, 10.1, 3000)
    g = np.array([v * erfcx(v) for v in a])
    far = P.polyfit(1 / (a * a), g, 8, w=1 / g)
    for name, c in (("erfc F (a - 1)", near), ("erfc G (1 / a^2)", far)):
        print(name + ":", ", ".join("%.9ef" % np.float32(v) for v in c))
    x = np.linspace(0, 10.05, 400001).astype(np.float32)
    fv = horner_f32(near, (x - np.float32(1)).astype(np.float32))
    b = np.maximum(x, np.float32(2))
    gv = (horner_f32(far, (np.float32(1) / (b * b)).astype(np.float32)) / b).astype(np.float32)
    got = (np.where(x < 2, fv, gv) * np.exp(-x.astype(np.float64) ** 2)).astype(np.float32)
    ref = np.array([math.erfc(float(v)) for v in x])
    err = np.abs(got - ref) / np.spacing(np.maximum(np.abs(ref), 1.17549435e-38).astype(np.float32))
    print("erfc, 0 to 10.05: %.2f ulp (exact exp)" % np.max(err))
    x = np.linspace(1e-4, 1, 200001).astype(np.float32)
    print("below 1: %.2f ulp" % ulps((x * horner_f32(small, (x * x).astype(np.float32))).astype(np.float32), x))
    x = np.linspace(1, 4, 300001).astype(np.float32)
    q = horner_f32(tail, (x - np.float32(2.5)).astype(np.float32))
    print("1 to 4: %.2f ulp (exact exp)" % ulps((1 - np.exp(q.astype(np.float64))).astype(np.float32), x))


if __name__ == "__main__":
    main()

"""The maths the lessons show, built on the engine: pooling, shrinkage, ML vs REML criteria,
the marginal matrices, checks of understanding, and the code a student would write."""

"""Data in: the shipped datasets, simulators that draw from a chosen truth, and the reader
that turns a user's CSV into a table or a clear DataError."""

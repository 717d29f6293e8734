"""Solvers shared by planning and capacity: driving HiGHS (``highs``) and the transportation
matrix of the capacity models (``transport``). Ground floor: numpy and highspy only."""

"""Tests for the paper venue."""

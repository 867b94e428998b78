"""perpfleet: package marker so test helpers import as tests.*"""

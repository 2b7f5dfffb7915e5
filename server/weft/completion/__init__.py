"""weft.completion"""

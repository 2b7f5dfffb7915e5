"""weft.index"""

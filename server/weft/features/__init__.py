"""weft.features"""

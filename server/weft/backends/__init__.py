"""weft.backends"""

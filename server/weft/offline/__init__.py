"""weft.offline"""

"""weft.agent"""

"""Personalized services (个性化服务): catalogue, requests, group sessions, ratings."""

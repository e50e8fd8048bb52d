"""On-premises systems through an outbound-only agent (README "On-premises systems").

``onramp_agent.py`` is the agent itself (one standard-library file, served for download);
``hub.py`` the asyncio process holding agents' control connections and relaying Onramp's own
outbound calls through them (``manage.py run_agent_hub``); ``outbound/agent_routes.py`` what
the outbound client needs to send a connection's calls through its agent; ``services.py`` pairing,
presence and revocation; ``models.py`` the tables.
"""

"""DNS for the whole server: one resolver that every lookup goes through (MX delivery, domain verification,
SPF/DKIM/DMARC on inbound mail), honouring ``POSTROOM_DNS_SERVERS``."""

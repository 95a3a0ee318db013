"""Wire models shared by the transports and the workers: what a Message or Thread looks like as JSON."""

"""HTTP routes, one module per resource. Each module ends with its route table (``router.add_api_route`` calls in
registration order: a fixed path such as ``.../search`` comes before the ``{id}`` route that would take it)."""

"""Use cases on stored tickets, run inside the caller's unit of work: public intake, stage
transitions, the desk's commands, linking an issue, products and API keys."""

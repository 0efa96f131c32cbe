"""The JSON shapes the APIs answer and the pages render: public (tracking), desk, admin."""

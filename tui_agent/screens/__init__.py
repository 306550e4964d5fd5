"""The app's screens: the dashboard, a tool's detail view, help, and confirmations."""

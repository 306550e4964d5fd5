"""Dashboard widgets. They show what the engine publishes and post messages; none of them
calls the LLM, the sandbox or the index."""

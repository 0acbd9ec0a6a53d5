// The reference page of /api/chat/openapi.json, rendered by Swagger UI from Duet's own files (no CDN).
window.ui = SwaggerUIBundle({ url: '/api/chat/openapi.json', dom_id: '#swagger-ui', deepLinking: true });

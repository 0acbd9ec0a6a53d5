// The /demo page's script: a minimal client of the contract, REST for lists and history, the socket
// for everything live. A file of its own: the page's Content-Security-Policy allows no inline script.
const $ = (id) => document.getElementById(id);
let socket, token, myId, current, conversations = new Map(), messages = new Map(), online = new Map();
const api = async (method, path, body) => {
  const res = await fetch('/api/chat' + path, { method, headers: { Authorization: 'Bearer ' + token, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const json = res.status === 204 ? {} : await res.json();
  if (!res.ok) throw new Error(json.error ? json.error.code + ': ' + json.error.message : res.status);
  return json;
};
const userIdFromToken = (t) => Number(JSON.parse(atob(t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub);
// Everything users wrote (names, messages, file names) goes into the page as text nodes, never as
// HTML: a display name such as <img onerror=…> must stay a name (the page holds a token).
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
function renderConversations() {
  const sorted = [...conversations.values()].sort((a, b) => (b.lastMessageAt || b.createdAt).localeCompare(a.lastMessageAt || a.createdAt));
  $('conversations').replaceChildren(...sorted.map((c) => {
    const div = el('div', 'conv' + (current === c.id ? ' active' : ''));
    div.dataset.id = c.id;
    const name = c.participant.name || 'user ' + c.participant.id;
    div.append(el('span', 'dot' + (online.get(c.participant.id) ? ' on' : '')), name + (c.unreadCount ? ' (' + c.unreadCount + ')' : ''));
    div.onclick = () => openConversation(c.id);
    return div;
  }));
}
function renderMessages() {
  $('log').replaceChildren(...[...messages.values()].sort((a, b) => a.id - b.id).map((m) => {
    const div = el('div', 'msg' + (m.senderId === myId ? ' mine' : ''), m.content);
    div.dataset.id = m.id;
    if (m.attachment) div.append(el('span', 'attachment', 'file: ' + m.attachment.name));
    if (m.senderId === myId) div.append(el('span', 'status', m.isRead ? 'read' : m.deliveredAt ? 'delivered' : 'sent'));
    return div;
  }));
  $('log').scrollTop = $('log').scrollHeight;
}
async function openConversation(id) {
  current = id;
  const { conversation } = await socket.emitWithAck('join_conversation', { conversationId: id }).then((a) => { if (!a.ok) throw new Error(a.error.code); return a; });
  conversations.set(id, conversation);
  messages = new Map((await api('GET', '/conversations/' + id + '/messages?limit=100')).messages.map((m) => [m.id, m]));
  await markRead();
  $('text').disabled = $('send').disabled = false;
  renderConversations(); renderMessages();
}
async function markRead() {
  const mine = [...messages.values()].some((m) => m.receiverId === myId && !m.isRead);
  if (!mine) return;
  await socket.emitWithAck('mark_as_read', { conversationId: current });
  const c = conversations.get(current); if (c) c.unreadCount = 0;
  for (const m of messages.values()) if (m.receiverId === myId) m.isRead = true;
}
async function catchUp() {
  // After any reconnect: history after the last id held, and the list for counts.
  const list = await api('GET', '/conversations?limit=100');
  conversations = new Map(list.conversations.map((c) => [c.id, c]));
  if (current) {
    const last = Math.max(0, ...messages.keys());
    for (const m of (await api('GET', '/conversations/' + current + '/messages?limit=100&after=' + last)).messages) messages.set(m.id, m);
    renderMessages();
  }
  await refreshPresence([...conversations.values()].map((c) => c.participant.id));
}
async function refreshPresence(ids) {
  if (ids.length) for (const s of (await socket.emitWithAck('get_online_status', { userIds: ids.slice(0, 100) })).statuses) online.set(s.userId, s.online);
  renderConversations();
}
$('connect').onclick = () => {
  token = $('token').value.trim(); myId = userIdFromToken(token);
  $('me').textContent = 'You are user ' + myId;
  socket = io({ auth: { token }, transports: ['websocket'] });
  socket.on('connect', catchUp);
  socket.on('connect_error', (e) => { $('me').textContent = 'Refused: ' + (e.data ? e.data.code : e.message); });
  socket.on('new_message', ({ message, conversation }) => {
    if (!conversations.has(conversation.id)) refreshPresence([conversation.participant.id]);
    conversations.set(conversation.id, conversation);
    if (message.receiverId === myId) socket.emit('message_delivered', { conversationId: message.conversationId, upToMessageId: message.id }, () => {});
    if (message.conversationId === current) { messages.set(message.id, message); if (document.hasFocus()) markRead().then(renderMessages); renderMessages(); }
    renderConversations();
  });
  socket.on('messages_delivered', (e) => { for (const m of messages.values()) if (m.senderId === myId && m.id <= e.upToMessageId) m.deliveredAt = m.deliveredAt || e.deliveredAt; renderMessages(); });
  socket.on('messages_read', (e) => { if (e.readerId !== myId && e.conversationId === current) { for (const m of messages.values()) if (m.senderId === myId && m.id <= e.upToMessageId) m.isRead = true; renderMessages(); } });
  socket.on('message_deleted', (e) => { messages.delete(e.messageId); renderMessages(); catchUp(); });
  socket.on('user_typing', (e) => { if (e.conversationId === current) $('typing').textContent = e.isTyping ? 'typing…' : ''; });
  socket.on('presence', (e) => { online.set(e.userId, e.online); renderConversations(); });
};
$('open').onclick = async () => {
  const { conversation } = await api('POST', '/conversations', { participantId: Number($('peer').value) });
  conversations.set(conversation.id, conversation); await openConversation(conversation.id);
  await refreshPresence([conversation.participant.id]);
};
let typingSent = 0;
$('text').oninput = () => { if (Date.now() - typingSent > 2000) { typingSent = Date.now(); socket.emit('typing', { conversationId: current }, () => {}); } };
$('composer').onsubmit = async (e) => {
  e.preventDefault();
  const content = $('text').value; if (!content.trim()) return;
  $('text').value = ''; typingSent = 0;
  const ack = await socket.emitWithAck('send_message', { conversationId: current, content, clientMessageId: crypto.randomUUID() });
  if (ack.ok) { messages.set(ack.message.id, ack.message); renderMessages(); } else alert(ack.error.code + ': ' + ack.error.message);
};
window.addEventListener('focus', () => current && markRead().then(renderMessages));
